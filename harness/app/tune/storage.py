"""Where a study lives: a SQLite file in the study folder, or a shared database.

Both are Optuna's RDBStorage, with a heartbeat: a trial whose process died (SIGKILL,
a lost machine) stops beating and is marked failed by the next worker, and Optuna's
RetryHeartbeatStaleTrialCallback queues its parameters again, so a killed study continues where it
was. The embedded file is held by one `medgate tune` (and the workers it starts), so on
start every trial still marked running belongs to a process that is gone and is failed at
once rather than after the grace period. A database URL (PostgreSQL) is how several
machines share one study.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from harness.core.secrets import register_secret

HEARTBEAT_S = 20
GRACE_S = 60
SCHEMA_ATTEMPTS = 4
EMBEDDED_NAME = "study.db"


def embedded_url(study_dir: Path) -> str:
    return f"sqlite:///{(study_dir / EMBEDDED_NAME).resolve()}"


def shown_url(url: str) -> str:
    """The URL with any password masked (for records, logs and reports)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy raises several types for a bad URL
        raise BadInputError(f"--storage is not a database URL ({type(exc).__name__})") from None


def open_storage(url: str) -> Any:
    """Optuna's RDBStorage on `url` with a heartbeat and retry of dead trials."""
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    # heartbeat_interval and failed_trial_callback are marked experimental by Optuna since
    # 2.9; the study relies on them knowingly, so the warning is not news to the user.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    password = make_url(url).password if "://" in url else None
    register_secret(password)
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S,
                failed_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=2),
                engine_kwargs={"pool_pre_ping": True} if not url.startswith("sqlite") else
                {"connect_args": {"timeout": 60}})
        except ImportError as exc:
            raise BadInputError(f"--storage {shown_url(url)}: the database driver is not "
                                f"installed ({exc})") from exc
        except Exception as exc:  # the user's server or URL, said below
            # Workers started together on an empty database race to create Optuna's tables
            # (PostgreSQL: a unique violation on the type catalogue, or a table that already
            # exists); the loser retries and finds the tables made.
            if isinstance(exc, (IntegrityError, ProgrammingError)) and attempt + 1 < SCHEMA_ATTEMPTS:
                time.sleep(1.0 + attempt)
                continue
            raise BadInputError(f"--storage {shown_url(url)}: cannot open the study database "
                                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
                                ) from exc
    raise AssertionError("unreachable")


def fail_orphaned_trials(study: Any) -> list[int]:
    """Mark every running trial failed (their process is gone) and queue its parameters
    again, as the heartbeat would after its grace period. Returns their numbers."""
    from optuna.trial import TrialState

    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_user_attr(trial._trial_id, "interrupted",
                                           "its process ended without a result")
        if study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            failed.append(trial.number)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number},
                                skip_if_exists=False)
    return failed

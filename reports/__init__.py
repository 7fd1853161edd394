"""medgate reports: model card, pre-deployment checklist, evidence explorer, sign-off and
the regulatory export bundle, all rendered from a run directory's files.

The pipeline and the CLI use only what is named here.
"""

from reports.export import build_bundle, verify_bundle
from reports.render import render_all
from reports.rundata import load_run
from reports.signoff import read_signoffs, record_signoff, review_state

__all__ = ["build_bundle", "load_run", "read_signoffs", "record_signoff", "render_all",
           "review_state", "verify_bundle"]

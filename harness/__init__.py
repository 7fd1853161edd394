"""medgate harness: CLI, config, model loading, run directory, records and pipeline."""

from harness.config import MedgateConfig, load_config
from harness.errors import BadInputError, InternalError, MedgateError
from harness.records import Record
from harness.rundir import RunDir

__all__ = ["BadInputError", "InternalError", "MedgateConfig", "MedgateError", "Record", "RunDir",
           "load_config"]

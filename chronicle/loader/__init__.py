"""The config-driven loader: milestone YAML files in, new/revised/retracted events out.

Split by concern: `yamlread` (safe YAML with positions), `validate` (file format and domain
invariants, every problem at its line), `plan` (the files against the log), `apply` (one
transaction), `sources` (which files), `fileformat` (the format's model and JSON Schema).
"""

from chronicle.loader.apply import LoadReport, load_sources
from chronicle.loader.fileformat import json_schema, json_schema_text
from chronicle.loader.plan import Change
from chronicle.loader.problems import FileProblem, LoadError, format_problems
from chronicle.loader.sources import check_files, check_sources
from chronicle.loader.validate import Checked, FileMilestone
from chronicle.loader.yamlread import MAX_FILE_BYTES

__all__ = [
    "MAX_FILE_BYTES",
    "Change",
    "Checked",
    "FileMilestone",
    "FileProblem",
    "LoadError",
    "LoadReport",
    "check_files",
    "check_sources",
    "format_problems",
    "json_schema",
    "json_schema_text",
    "load_sources",
]

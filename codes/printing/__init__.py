"""Print files: CSV, QR (SVG/PNG in a ZIP), GS1 DataMatrix (PNG in a ZIP) and PDF label sheets.

`options` says what a request may ask for, `rendering` writes one part (and names files, writes the manifest),
`jobs` runs print jobs over the workers, `export` renders a batch in this process (`export_batch`). The names
below are the package's public surface; anything else is imported from its module.
"""

from .export import export_batch
from .jobs import create_print_job, fail_job, fail_job_of_part, finish_job, render_job_here, render_part, storage
from .options import PrintError, carries_pins, clean_options, clean_part_size, clean_range, symbology_problem
from .rendering import CONTENT_TYPES, EXTENSIONS, PartSpec, job_filename, manifest, write_part

__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "PartSpec",
    "PrintError",
    "carries_pins",
    "clean_options",
    "clean_part_size",
    "clean_range",
    "create_print_job",
    "export_batch",
    "fail_job",
    "fail_job_of_part",
    "finish_job",
    "job_filename",
    "manifest",
    "render_job_here",
    "render_part",
    "storage",
    "symbology_problem",
    "write_part",
]

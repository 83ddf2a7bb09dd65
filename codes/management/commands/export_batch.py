"""Render a batch's print files into a directory, in this process (the same renderers as the workers)."""

import json
from pathlib import Path

from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError

from codes import printing
from codes.models import CodeBatch, PrintFormat
from codes.printing.options import ALL_OPTIONS

# Command-line option -> print option.
OPTION_ARGUMENTS = [option.name for option in ALL_OPTIONS]


class Command(BaseCommand):
    help = "Write a batch's print files (parts of at most --part-size codes) and their manifest into --out."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--format", required=True, dest="fmt", help=", ".join(PrintFormat.values))
        parser.add_argument("--from", type=int, dest="first_position", help="first position (1-based)")
        parser.add_argument("--to", type=int, dest="last_position", help="last position (1-based)")
        parser.add_argument("--out", required=True, help="directory to write the files into")
        parser.add_argument("--part-size", type=int, help="codes per file (default PRINT_PART_SIZE: 100000)")
        parser.add_argument("--error-level", dest="error_level", help="QR error correction: L, M, Q, H")
        parser.add_argument("--module-size", dest="module_size", type=int, help="px per module (QR, DataMatrix)")
        parser.add_argument("--symbology", help="PDF: qr or datamatrix")
        parser.add_argument("--page-size", dest="page_size", help="PDF: A4 or LETTER")
        parser.add_argument("--columns", type=int, help="PDF: labels per row")
        parser.add_argument("--rows", type=int, help="PDF: labels per column")
        parser.add_argument("--margin-mm", dest="margin_mm", type=float, help="PDF: page margins in mm")

    def handle(self, *args, **options):
        batch = CodeBatch.objects.select_related("product__key", "lot").filter(pk=options["batch_id"]).first()
        if batch is None:
            raise CommandError(f"batch_id: no batch {options['batch_id']}.")
        out = Path(options["out"])
        given = {name: options[name] for name in OPTION_ARGUMENTS if options[name] is not None}
        try:
            # Validate everything before creating anything.
            printing.clean_options(options["fmt"], given)
            printing.clean_range(batch, options["first_position"], options["last_position"])
            printing.clean_part_size(options["part_size"])
            out.mkdir(parents=True, exist_ok=True)
            data = printing.export_batch(
                batch=batch,
                fmt=options["fmt"],
                options=given,
                storage=FileSystemStorage(location=out),
                first_position=options["first_position"],
                last_position=options["last_position"],
                part_size=options["part_size"],
            )
        except printing.PrintError as exc:
            raise CommandError(f"{_argument(exc.field)}: {exc.message}") from None
        for entry in data["files"]:
            self.stdout.write(
                f"{entry['name']}  {entry['count']} codes  {entry['size']} bytes  sha256 {entry['sha256']}"
            )
        self.stdout.write(json.dumps({"out": str(out), "parts": data["parts"], "count": data["count"]}))


def _argument(field: str) -> str:
    names = {"first_position": "--from", "last_position": "--to", "fmt": "--format", "format": "--format"}
    return names.get(field, "--" + field.replace("_", "-") if field != "batch" else "batch_id")

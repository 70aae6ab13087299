from django.core.management.base import BaseCommand

from isocert.certification.pdf import cb_mark_sha256
from isocert.certification.rerender import Progress, rerender_certificates, revisions_to_redraw


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class Command(BaseCommand):
    help = ("Redraw the current revision of every certificate whose PDF was drawn with "
            "another CB mark (run after replacing the mark). Superseded revisions keep "
            "their PDFs. Stop it any time and run it again: it continues where it stopped. "
            "Shows a progress bar with the rate and the time left.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="Redraw at most this many.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Only count the certificates to redraw.")

    def handle(self, *args, **options):
        mark = cb_mark_sha256()
        if options["dry_run"]:
            self.stdout.write(f"Certificates to redraw with mark {mark[:12]}…: "
                              f"{revisions_to_redraw(mark).count()}.")
            return
        tty = self.stderr.isatty()
        shown = {"step": -1}

        def progress(p: Progress) -> None:
            percent = 100 * p.done / p.total
            # On a terminal the bar is redrawn in place; in a log, one line per 5 %.
            if not tty and int(percent // 5) == shown["step"] and p.done != p.total:
                return
            shown["step"] = int(percent // 5)
            bar = "#" * int(percent // 5) + "." * (20 - int(percent // 5))
            line = (f"[{bar}] {p.done}/{p.total} certificates {percent:5.1f} % "
                    f"{p.rate:5.1f}/s, {_clock(p.remaining_seconds)} left")
            self.stderr.write(("\r" + line) if tty else line, ending="" if tty else "\n")
            self.stderr.flush()

        done = rerender_certificates(limit=options["limit"], progress=progress)
        if tty and done:
            self.stderr.write("")
        self.stdout.write(self.style.SUCCESS(f"Certificates redrawn: {done}."))

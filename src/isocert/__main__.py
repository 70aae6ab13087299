"""The ``isocert`` console script: Django's manage.py for this project."""

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:   # isocert's version, not Django's (manage.py's answer)
        import isocert

        print(f"isocert {isocert.__version__}")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

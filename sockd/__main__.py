"""``python -m sockd`` is the ``sockd`` command."""

from sockd.cli import main

main()

"""Settings: one registry of typed sections (``registry.py``), read from config files,
``SOCKD_*`` variables and flags (``loader.py``), checked one by one and against each other
(``rules.py``), and handed to the master and its workers (``options.py``)."""

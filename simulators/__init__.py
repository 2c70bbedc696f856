"""Stand-ins for other organisations' systems: what the product talks to, never what it is.

Nothing here ships to a municipality. The app is installed by the local and test
settings only (``config/settings/local.py``, ``test.py``), never by production,
and no product module imports it (an import contract in pyproject.toml checks
that in ``make test``). It reaches the product only through the product's doors:
the feeds the product polls over HTTP, the product's services and management
commands, the REST API and the MitID login's OpenID Connect.

- ``systems/``: FASIT, SBSYS, Nexus and a KMD Ydelse-like payments system, each
  serving its own wire format from a seeded ``world`` (``world.py``, Danish names
  in ``danish.py``, CPR numbers in ``cpr.py``, the installations' templates in
  ``catalogue.py``, the faults real systems make in ``faults.py``);
- ``http.py``: those systems over HTTP on loopback (``manage.py simulate_serve``),
  ``feeds.py``: pointing the product's feeds at them;
- ``demo.py``, ``demo_citizens.py``, ``sheets/``: the demo ``make run`` loads
  (``manage.py demo_load``), ``demo_accounts.py``: its admin accounts;
- ``bulk.py``: a COPY population for benchmarks (``manage.py simulate``);
- ``mitid/``: a local MitID broker (OpenID Connect) for the demo citizens.

See docs/architecture.md and docs/sources.md.
"""

"""Source systems: simulated products, their adapters, and scheduled polling.

- ``simulators/``: stand-ins for FASIT, SBSYS, Nexus and a KMD Ydelse-like
  payments system; each serves its own wire format from a seed.
- ``adapters/``: map each format to the index wire format (the REST API's).
- ``services.py``: feed registration and the cursor service (``feed_poll``).
- ``bulk.py``: the COPY loader behind ``manage.py simulate``.

See docs/sources.md.
"""

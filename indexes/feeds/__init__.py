"""Scheduled ingestion: the product's side of the source systems' feeds.

- ``adapters/``: map each product's wire format to the index wire format (the REST API's).
- ``services.py``: feed registration and the cursor service (``feed_poll``).
- ``transport.py``: fetching a page over HTTP from the feed's address.
- ``selectors.py``: what the polls delivered, for the data-quality report.

The systems polled in development and tests are stand-ins (``simulators/``), served
over HTTP like real ones. See docs/sources.md.
"""

"""KOMBIT's XML formats beside the JSON API: SF1470 v6 and YI v6.

A delivery in KOMBIT's own XML goes through three steps, each its own module:

- ``safe``: parse the body with a parser that resolves no entity, loads no DTD and
  reaches no network, after a size check and with a depth limit (``xml_parse``);
- ``schemas``: validate it against KOMBIT's XSDs shipped in ``xsd/`` (only those the
  code needs; ``xsd/NOTICE.md``), each problem naming the XPath and line;
- ``sf1470``: map each record to the JSON wire format of ``indexes.payloads``, and
  keep, for every JSON pointer it fills, the element it came from, so a problem
  found by the ingestion engine names the element too.

The mapped records then take the very path of a JSON bulk delivery (the inbox and
``indexes.services.ingestion``): one engine, one set of rules. docs/sf1470.md has the
mapping table and the decisions.
"""

"""Open data: the anonymised export and the Open311 GeoReport v2 endpoints."""

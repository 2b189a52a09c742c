"""``/api/v1/`` endpoints of the clinician workspace, one module per use case: one view per
operation, clinician or admin only (audit: admin only). Every text is masked and users appear
only as pseudonyms."""

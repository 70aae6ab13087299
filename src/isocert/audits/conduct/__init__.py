"""The conduct of an audit: checklist, records, findings, corrective actions, reports."""

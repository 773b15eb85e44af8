"""segscore.report."""

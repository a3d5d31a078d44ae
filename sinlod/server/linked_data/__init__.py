"""What people and crawlers follow: dereferenceable IRIs (303, conneg), HTML pages, labels and
search, the release log, VoID / DCAT-AP / dumps, and the reconciliation service."""

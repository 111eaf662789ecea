"""Personal data: sealing per subject, forgetting, retention rules and legal holds (保存期間と保全)."""

"""School calendars: which days are school days, and the absence rules that count them."""

"""The hub's date and time formats (settings FORMAT_MODULE_PATH): times in the firm's
time zone (TIME_ZONE) with the zone named, dates as year-month-day, in every admin page
Django formats itself."""

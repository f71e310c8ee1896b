"""PM keeps countries as two-letter ISO 3166 codes; the hub and LA keep the country's
name. The PM mapping translates between them with this table. A code missing here
comes through as the code; a name missing here is sent as it is, and PM's refusal
names the field, so the link shows what to fix."""

COUNTRY_NAMES = {
    "AE": "United Arab Emirates",
    "AR": "Argentina",
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CL": "Chile",
    "CN": "China",
    "CO": "Colombia",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EG": "Egypt",
    "ES": "Spain",
    "FI": "Finland",
    "FJ": "Fiji",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HK": "Hong Kong",
    "HU": "Hungary",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IL": "Israel",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KE": "Kenya",
    "KR": "South Korea",
    "MX": "Mexico",
    "MY": "Malaysia",
    "NG": "Nigeria",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PE": "Peru",
    "PG": "Papua New Guinea",
    "PH": "Philippines",
    "PK": "Pakistan",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SA": "Saudi Arabia",
    "SE": "Sweden",
    "SG": "Singapore",
    "TH": "Thailand",
    "TO": "Tonga",
    "TR": "Türkiye",
    "TW": "Taiwan",
    "UA": "Ukraine",
    "US": "United States",
    "VN": "Vietnam",
    "WS": "Samoa",
    "ZA": "South Africa",
}
ALSO_CALLED = {
    "usa": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "turkey": "TR",
    "czech republic": "CZ",
    "republic of korea": "KR",
    "aotearoa": "NZ",
}
CODES = {name.lower(): code for code, name in COUNTRY_NAMES.items()} | ALSO_CALLED


def country_name(code: str) -> str:
    """The hub's country for PM's code ("NZ" → "New Zealand")."""
    return COUNTRY_NAMES.get(code.upper(), code) if code else ""


def country_code(name: str) -> str:
    """PM's code for the hub's country ("New Zealand" → "NZ"; "nz" → "NZ")."""
    if not name:
        return ""
    if len(name) == 2 and name.isalpha():
        return name.upper()
    return CODES.get(name.strip().lower(), name)

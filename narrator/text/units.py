"""The units a narrator reads in full after a number ("5 km": "five kilometers"), with their
singular and plural: the table :mod:`narrator.text.spoken` reads them by."""

from __future__ import annotations

#: Units read after a number: symbol → (singular, plural). A single letter spaced from its
#: number is read only where it can be nothing else (see ``_unit`` in spoken.py): "5 m" may
#: be minutes or a million.
UNITS = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"),
    "mph": ("mile per hour", "miles per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "km": ("kilometer", "kilometers"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "m": ("meter", "meters"), "mi": ("mile", "miles"),
    "ft": ("foot", "feet"), "kg": ("kilogram", "kilograms"), "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"), "lbs": ("pound", "pounds"), "lb": ("pound", "pounds"),
    "oz": ("ounce", "ounces"), "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"), "L": ("liter", "liters"), "hrs": ("hour", "hours"),
    "hr": ("hour", "hours"), "h": ("hour", "hours"), "mins": ("minute", "minutes"),
    "min": ("minute", "minutes"), "secs": ("second", "seconds"), "sec": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"), "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"), "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"), "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"),
    "kW": ("kilowatt", "kilowatts"), "W": ("watt", "watts"), "V": ("volt", "volts"),
    "tbsp": ("tablespoon", "tablespoons"), "tsp": ("teaspoon", "teaspoons"),
    "ha": ("hectare", "hectares"), "in.": ("inch", "inches"), "kn": ("knot", "knots"),
    "NM": ("nautical mile", "nautical miles"), "mbar": ("millibar", "millibars"),
    "hPa": ("hectopascal", "hectopascals"),
}  # fmt: skip

__all__ = ["UNITS"]

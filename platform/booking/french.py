"""French dates: moved to core.french (one spelling for the whole product);
kept so booking's imports read as before."""

from core.french import (  # noqa: F401
    MONTHS,
    PARIS,
    WEEKDAYS,
    day_number,
    format_date,
    format_datetime,
)

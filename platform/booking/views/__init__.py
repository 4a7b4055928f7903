"""Pages of the booking core, mounted by each service module (modules/<code>/urls.py
via booking.urls.module_patterns): the module's URL namespace gates them per town
(portal.routing.ModuleGateMiddleware). One file per audience: `family` (grid,
registrations, absences), `staff` (occupancy, day lists, catalogue, decisions);
the API is booking/api.py. Reads go through booking.selectors.
"""

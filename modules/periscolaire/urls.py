from booking.urls import module_patterns

app_name = "periscolaire"
urlpatterns = module_patterns("periscolaire")

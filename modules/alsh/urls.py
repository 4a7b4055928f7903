from booking.urls import module_patterns

app_name = "alsh"
urlpatterns = module_patterns("alsh")

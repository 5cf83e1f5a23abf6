from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.summary_list, name="list"),
    path("<int:pk>/", views.summary_detail, name="detail"),
    path("<int:pk>/chart.png", views.summary_chart, name="chart"),
    path("preview/<int:pk>/", views.subscription_preview, name="preview"),
]

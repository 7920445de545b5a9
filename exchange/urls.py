from django.urls import path

app_name = "exchange"

urlpatterns: list = [
    # The staff import page is added here (see exchange/views.py).
]

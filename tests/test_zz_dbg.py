import pytest, traceback
from django.http import Http404
from tests.test_roles import login_as, make_person
pytestmark = pytest.mark.django_db
def test_x(rf):
    from django.contrib import admin
    from cases.models import Person
    from django.contrib.auth.models import AnonymousUser
    p = make_person()
    from django.test import Client
    c = Client()
    u = login_as(c, "administrator")
    req = rf.post("/x/")
    req.user = u
    ma = admin.site._registry[Person]
    try:
        ma.workflow_view(req, str(p.pk), "submit")
    except Exception:
        traceback.print_exc()

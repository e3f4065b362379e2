"""The scoped manager: tenant rows are reachable only inside a scope, and only the scope's."""

from __future__ import annotations

import pytest

from tenants.models import Membership
from tenants.scoping import TenantScopeError, agency_scope, no_scope, system_scope
from tests.factories import MembershipFactory


def test_querying_a_tenant_model_without_a_scope_raises(agency_a):
    MembershipFactory(agency=agency_a)
    with no_scope(), pytest.raises(TenantScopeError):
        list(Membership.objects.all())


def test_an_agency_scope_sees_only_its_own_rows(agency_a, agency_b):
    mine = MembershipFactory(agency=agency_a)
    MembershipFactory(agency=agency_b)
    with agency_scope(agency_a):
        assert list(Membership.objects.all()) == [mine]


def test_the_system_scope_sees_every_agency(agency_a, agency_b):
    MembershipFactory(agency=agency_a)
    MembershipFactory(agency=agency_b)
    with system_scope():
        assert Membership.objects.count() == 2


def test_saving_a_row_of_another_agency_is_refused(agency_a, agency_b):
    membership = MembershipFactory(agency=agency_b)
    membership.role = "supervisor"
    with agency_scope(agency_a), pytest.raises(TenantScopeError):
        membership.save()


def test_new_rows_take_the_scope_agency_when_none_is_given(agency_a):
    from tests.factories import UserFactory

    with agency_scope(agency_a):
        membership = Membership(user=UserFactory(), role="agent")
        membership.save()
    assert membership.agency_id == agency_a.pk


def test_an_agency_task_runs_inside_the_agency_given_by_its_kwargs(agency_a, agency_b):
    from tenants.scoping import agency_task, current_agency_id

    @agency_task
    def task_body(*, agency_id: int) -> int | None:
        return current_agency_id()

    with no_scope():
        assert task_body(agency_id=agency_b.pk) == agency_b.pk
        assert current_agency_id() is None


def test_an_empty_queryset_needs_no_scope(db):
    with no_scope():
        assert list(Membership.objects.none()) == []

from tests.frontend.conftest import (  # noqa: F401 (fixtures)
    admin_a,
    admin_client,
    agent_a,
    agent_client,
    client_for,
    make_member,
)

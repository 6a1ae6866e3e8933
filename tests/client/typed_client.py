"""A generated Python client, used as a newcomer would: typed attributes only.

local/test.sh generates `latchkey_client` from the committed openapi.json with
openapi-python-client, then runs this against the end-to-end stack: register, log in,
read oneself, create a contact and list contacts, each answer a model of the document's
named schemas. A success body the generator cannot type (an `allOf` nest it flattens into
`status` alone, say) fails here.
"""

import secrets
import sys

from latchkey_client import AuthenticatedClient, Client
from latchkey_client.api.auth import login, register
from latchkey_client.api.contacts import create_contact, list_contacts
from latchkey_client.api.users import get_me
from latchkey_client.models import (
    ContactCreatedResponse,
    ContactsPageResponse,
    CreateContactBody,
    LoginBody,
    MeResponse,
    RegisterBody,
    SignedInResponse,
)


def expect(kind, answer):
    assert isinstance(answer, kind), f"expected {kind.__name__}, got {answer!r}"
    return answer


def main(base_url: str) -> None:
    anonymous = Client(base_url=base_url)
    name = f"typed_{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(24)

    registered = expect(
        SignedInResponse,
        register.sync(client=anonymous, body=RegisterBody(login=name, password=password)),
    )
    assert registered.status == "ok" and registered.token_type == "Bearer"
    assert registered.user.login == name and registered.expires_in > 0

    signed_in = expect(
        SignedInResponse,
        login.sync(client=anonymous, body=LoginBody(login=name, password=password)),
    )
    me_client = AuthenticatedClient(base_url=base_url, token=signed_in.access_token)
    me = expect(MeResponse, get_me.sync(client=me_client))
    assert me.user.id == registered.user.id and me.user.disabled is False
    assert me.user.mfa_enabled is False

    created = expect(
        ContactCreatedResponse,
        create_contact.sync(
            client=me_client,
            body=CreateContactBody(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        ),
    )
    assert created.contact.first_name == "Ada" and created.contact.id > 0

    page = expect(ContactsPageResponse, list_contacts.sync(client=me_client, q="ada"))
    assert page.total == 1 and page.contacts[0].id == created.contact.id, page
    print("typed client: register, login, me, create and list contacts: ok")


if __name__ == "__main__":
    main(sys.argv[1])

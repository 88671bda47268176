"""The people the tests are about, in two practices.

sunrise (Professional, America/New_York): Alice the owner, Bob a clinician, and clients
Carol and Dave. harbor (Starter, Europe/London): Hana the owner and her client Ivan.
"""

from dataclasses import dataclass

from tenant_apps.accounts.models import Role

PASSWORD = "correct-horse-battery-staple"


@dataclass(frozen=True)
class Persona:
    key: str
    email: str
    full_name: str
    role: str


SUNRISE_PEOPLE = (
    Persona("alice", "alice@sunrise.test", "Alice Owner", Role.OWNER),
    Persona("bob", "bob@sunrise.test", "Bob Clinician", Role.CLINICIAN),
    Persona("carol", "carol@client.test", "Carol Client", Role.CLIENT),
    Persona("dave", "dave@client.test", "Dave Client", Role.CLIENT),
)
HARBOR_PEOPLE = (
    Persona("hana", "hana@harbor.test", "Hana Owner", Role.OWNER),
    Persona("ivan", "ivan@client.test", "Ivan Client", Role.CLIENT),
)

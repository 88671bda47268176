"""Plain-language names for what Stripe still needs from a connected account."""

_KNOWN = {
    "external_account": "A bank account for payouts",
    "business_profile.url": "Your practice's website",
    "business_profile.mcc": "The kind of business",
    "business_profile.product_description": "A description of your services",
    "business_type": "The type of business",
    "tos_acceptance.date": "Acceptance of Stripe's terms of service",
    "tos_acceptance.ip": "Acceptance of Stripe's terms of service",
    "representative.verification.document": "An identity document for the representative",
    "individual.verification.document": "An identity document",
    "individual.id_number": "A tax identification number",
    "individual.ssn_last_4": "The last four digits of a Social Security number",
    "company.tax_id": "The practice's tax id",
}


def describe(requirement: str) -> str:
    if requirement in _KNOWN:
        return _KNOWN[requirement]
    # Unlisted ids such as "individual.address.city": the last parts read as words.
    return requirement.replace("_", " ").replace(".", " — ").capitalize()


def describe_all(requirements: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(describe(item) for item in requirements))

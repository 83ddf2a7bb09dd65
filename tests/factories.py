import factory

from brands import services as brand_services
from brands.models import Brand, Membership, Role, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("correct horse battery")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")

    @factory.post_generation
    def key(brand, create, extracted, **kwargs):
        if create:
            brand_services.add_brand_key(brand=brand)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Role.OWNER


def one_of_everything(brand) -> dict:
    """Ids of one object of every kind a dashboard URL takes, all of `brand` (see tests/test_tenancy.py)."""
    return {
        "membership_id": MembershipFactory(brand=brand, role=Role.VIEWER).pk,
    }

"""Registrations as the API shows them (the `owners` scope alone): a row per registered unit with its consents;
one registration with its owner's contact decrypted; the counts of the dashboard's registrations page."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from owners.models import Consent, Purpose, Registration


class ConsentSerializer(serializers.ModelSerializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices)

    class Meta:
        model = Consent
        fields = ["purpose", "given", "wording_version", "language", "at"]
        read_only_fields = fields


class RegistrationSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="code.product_id", read_only=True, help_text="The product's id")
    serial = serializers.CharField(source="code.serial", read_only=True)
    consents = ConsentSerializer(
        source="current_consents", many=True, read_only=True, help_text="The answer that holds for each purpose"
    )
    erased_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Set: the owner's details were erased"
    )

    class Meta:
        model = Registration
        fields = ["id", "registered_at", "product", "code", "serial", "consents", "erased_at"]
        read_only_fields = fields


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField(help_text="Empty when the owner gave only a phone number")
    phone = serializers.CharField(help_text="Empty when the owner gave only an e-mail address")


class RegistrationDetailSerializer(RegistrationSerializer):
    """One registration, its owner's contact decrypted: personal data, never to be logged."""

    contact = serializers.SerializerMethodField()
    warranty_ends_on = serializers.SerializerMethodField()

    class Meta(RegistrationSerializer.Meta):
        fields = [
            *RegistrationSerializer.Meta.fields,
            "contact",
            "purchase_place",
            "purchased_on",
            "language",
            "warranty_ends_on",
        ]
        read_only_fields = fields

    @extend_schema_field(ContactSerializer(allow_null=True, help_text="null: erased"))
    def get_contact(self, registration: Registration) -> dict | None:
        if registration.erased:
            return None
        contact = registration.contact()
        return {"name": contact.name, "email": contact.email, "phone": contact.phone}

    @extend_schema_field(serializers.DateField(allow_null=True, help_text="null: no warranty, or erased"))
    def get_warranty_ends_on(self, registration: Registration):
        return None if registration.erased else registration.warranty_ends_on()


class ProductCountSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product.pk", help_text="The product's id")
    name = serializers.CharField(source="product.name")
    registrations = serializers.IntegerField()


class RegionCountSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ISO 3166-2 (MY-14) or a country (MY); empty: unknown")
    name = serializers.CharField()
    registrations = serializers.IntegerField()


class MonthCountSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day")
    registrations = serializers.IntegerField()


class ConsentRateSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    given = serializers.IntegerField(help_text="Registrations whose owner agreed to this purpose")
    rate = serializers.FloatField(allow_null=True, help_text="given / total; null without registrations")


class RegistrationStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_product = ProductCountSerializer(many=True)
    by_region = RegionCountSerializer(many=True)
    by_month = MonthCountSerializer(many=True)
    consents = ConsentRateSerializer(many=True)

import secrets
import unicodedata
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.expressions import BaseExpression
from django.utils import timezone
from django.utils.text import slugify

from core.files import RandomName

from . import keyring
from .prefixes import prefix_covers


def normalise_email(address: str) -> str:
    """The one form of an address, made once at sign-up, invitation and log-in and then compared exactly:
    NFKC (full-width and compatibility letters become plain ones), then lower case. Never a database's
    case-insensitive match: PostgreSQL folds a dotless ı to i, so `admın@` would find `admin@`'s account while
    the log-in throttle counted another name."""
    return unicodedata.normalize("NFKC", address.strip()).lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username):
        return self.get(email=normalise_email(username))  # any capitalisation, exactly the same address

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person: signs in with an e-mail address, may belong to several brands."""

    username = None  # type: ignore[assignment]  # signs in with the e-mail address
    email = models.EmailField("e-mail address", unique=True)  # stored lower-case (see forms), so unique is exact
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()  # type: ignore[assignment,misc]  # Django's UserManager wants a username

    def __str__(self):
        return self.email


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"
    DISTRIBUTOR = "distributor", "Distributor"


BRAND_ROLES = [c for c in Role.choices if c[0] != Role.DISTRIBUTOR]  # a distributor role needs its distributor


DistributorScope = Callable[[int], models.Q | BaseExpression]  # a filter: Q(…), Exists(…)

# How the rows of a brand-owned model are narrowed to one distributor's, by model (see `distributor_scope`).
_DISTRIBUTOR_SCOPES: dict[type[models.Model], DistributorScope] = {}


def distributor_scope(model: type[models.Model]) -> Callable[[DistributorScope], DistributorScope]:
    """Register which of `model`'s rows a distributor's people and keys see: a function of the distributor's id
    returning a filter (e.g. "inside a range it holds now"), applied by `for_actor`. An app above the model's may
    register it (print jobs live in codes, the ranges that scope them in distributors); one scope per model."""

    def register(scope: DistributorScope) -> DistributorScope:
        if model in _DISTRIBUTOR_SCOPES or getattr(model, "distributor_path", None):
            raise ImproperlyConfigured(f"{model.__name__} is narrowed to a distributor twice")
        _DISTRIBUTOR_SCOPES[model] = scope
        return scope

    return register


class BrandOwnedQuerySet(models.QuerySet):
    """The one tenancy mechanism: every brand-owned model's manager is built from this.

    A model says where its brand is with ``brand_path`` ("brand", "product__brand", ...), and, if dashboard
    URLs take its id, which (``url_id = "product_id"``: brands.access looks such ids up by it).
    """

    def for_brand(self, brand):
        return self.filter(**{self.model.brand_path: brand})  # type: ignore[attr-defined]

    def for_actor(self, actor):
        """What an actor may see: its brand's rows, and for a distributor's people (and keys) only their
        distributor's.

        A model says which rows are a distributor's with ``distributor_path`` (a field path to it), or has a
        scope registered with `distributor_scope`; a model with neither is not theirs to see at all."""
        rows = self.for_brand(actor.brand)
        if actor.distributor_id is None:
            return rows
        path = getattr(self.model, "distributor_path", None)
        if path:
            return rows.filter(**{path: actor.distributor_id})
        scope = _DISTRIBUTOR_SCOPES.get(self.model)
        return rows.filter(scope(actor.distributor_id)) if scope else rows.none()


class Activation(models.TextChoices):
    """When a brand's codes go live: until then they verify as "not yet activated", so a leaked print file is
    worth nothing."""

    APPLIED = "applied", "When we mark a batch, range or carton applied (dashboard or packaging line)"
    RECEIVED = "received", "When a distributor marks a range or carton received"


class Brand(models.Model):
    """A tenant: one company with its products, codes, distributors and scans."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    logo = models.ImageField(upload_to=RandomName("brand-logos"), blank=True)
    colour = models.CharField(max_length=7, default="#1f6feb", help_text="Hex colour for the verify page")
    consumer_message = models.CharField(
        max_length=280, blank=True, help_text="A line of your own under every authentic verdict on the verify page"
    )
    privacy_notice_url = models.URLField(
        "privacy notice",
        blank=True,
        help_text="The address of your privacy notice (PDPA). With it, the verify page of an authentic unit offers "
        "its owner to register it, with the notice linked beside each consent.",
    )
    plan = models.CharField(max_length=20, default="trial", help_text="A name in brands.plans.PLANS")
    require_two_factor = models.BooleanField(
        "require two-factor sign-in", default=False, help_text="Owners and admins must confirm a TOTP code"
    )
    activation = models.CharField(
        "codes go live", max_length=10, choices=Activation.choices, default=Activation.APPLIED
    )
    two_factor_for_operators = models.BooleanField(
        "operators too",
        default=False,
        help_text="Operators download PIN files: with two-factor sign-in required, ask them for a code as well",
    )
    # The brand's own Global Location Number: who answers trading partners' DSCSA verification requests
    # (`responderGLN`, vrs); checked by brands.services (13 digits, GS1 check digit).
    gln = models.CharField(
        "GLN", max_length=13, blank=True, help_text="Your GS1 Global Location Number (13 digits), for trading partners"
    )
    # Set when the name reads like an approved brand's: operators review it before approving its prefixes.
    lookalike_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Bumped whenever what the verify page says of the brand changes (a claim reviewed, the branding edited):
    # every web worker's product cache compares it in the verify statement and reloads at once.
    verify_generation = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "pk"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return self.name

    @staticmethod
    def unique_slug(name: str) -> str:
        base = slugify(name)[:50] or "brand"
        slug, n = base, 2
        while Brand.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.VIEWER)
    # Set exactly for the distributor role: such a member sees only this distributor's rows.
    distributor = models.ForeignKey(
        "distributors.Distributor", null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    url_id = "membership_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="one_membership_per_brand"),
            models.CheckConstraint(
                condition=models.Q(role="distributor", distributor__isnull=False)
                | (~models.Q(role="distributor") & models.Q(distributor__isnull=True)),
                name="membership_distributor_iff_distributor_role",
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.brand} ({self.role})"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An e-mailed link that lets someone join a brand with a role."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.VIEWER)
    distributor = models.ForeignKey(
        "distributors.Distributor", null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    VALID_FOR = timedelta(days=7)
    brand_path = "brand"
    erased_with_account = ("email",)  # brands.services.delete_account
    export_exclude = ("token",)  # a live capability, not data
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"{self.email} → {self.brand}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and timezone.now() - self.created_at < self.VALID_FOR


class BrandKey(models.Model):
    """A brand's 256-bit serial key, sealed under MASTER_KEY. Products point at the key they were made with,
    so a brand can rotate to a new key for new products without breaking codes already printed."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="keys")
    sealed = models.BinaryField()
    export_exclude = ("sealed",)  # sealed under our MASTER_KEY: useless outside, and never to leave
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"key {self.pk} of {self.brand}"  # never the key material

    def __repr__(self):
        return f"<BrandKey {self.pk} brand={self.brand_id}>"

    @staticmethod
    def associated_data(brand_id: int) -> bytes:
        return f"serialize-brand-key:{brand_id}".encode()

    def secret(self) -> bytes:
        """The raw key; callers keep it in memory only, never log or show it."""
        return keyring.unseal(
            keyring.parse_master_key(settings.MASTER_KEY), bytes(self.sealed), self.associated_data(self.brand_id)
        )


class BrandDeletion(models.Model):
    """An owner's request to delete a brand with everything it owns: the export is made first, the deletion
    runs once `delete_after` has passed (the grace period, during which the owner may cancel)."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="deletion")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    delete_after = models.DateTimeField()
    export_name = models.CharField(max_length=255, blank=True, help_text="The export ZIP in storage")
    export_size = models.BigIntegerField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)

    brand_path = "brand"
    storage_name_fields = ("export_name",)  # CharFields holding storage names: deleted with the brand
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"deletion of {self.brand_id} after {self.delete_after:%Y-%m-%d}"

    @property
    def is_due(self) -> bool:
        return self.exported_at is not None and self.delete_after <= timezone.now()


class ClaimState(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ClaimKind(models.TextChoices):
    GS1_PREFIX = "gs1_prefix", "GS1 Company Prefix"
    COMPANY_REGISTRATION = "company_registration", "Company registration"


class PrefixClaim(models.Model):
    """A brand's claim to be vouched for, reviewed by a platform operator: either a GS1 Company Prefix (its
    GTINs may be registered at once, for trial prints) or, for brands without one, its company registration
    (which vouches only for its products under Serialize product refs, never for a GTIN). Either way its codes
    verify as authentic only once an operator approved the claim."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="prefix_claims")
    kind = models.CharField(max_length=20, choices=ClaimKind.choices, default=ClaimKind.GS1_PREFIX)
    prefix = models.CharField("GS1 Company Prefix", max_length=12, blank=True)
    registration_number = models.CharField("company registration number", max_length=40, blank=True)
    registration_country = models.CharField(
        "country of registration", max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, e.g. MY"
    )
    state = models.CharField(max_length=10, choices=ClaimState.choices, default=ClaimState.PENDING)
    evidence = models.FileField(upload_to=RandomName("prefix-evidence", dated=True), blank=True)
    note = models.TextField(blank=True, help_text="The operator's reason, shown to the brand")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    url_id = "claim_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "prefix"],
                condition=models.Q(kind="gs1_prefix"),
                name="one_claim_per_brand_and_prefix",
            ),
            models.UniqueConstraint(
                fields=["brand", "registration_country", "registration_number"],
                condition=models.Q(kind="company_registration"),
                name="one_claim_per_brand_and_registration",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="gs1_prefix") & ~models.Q(prefix=""))
                | (models.Q(kind="company_registration", prefix="") & ~models.Q(registration_number="")),
                name="claim_names_what_it_claims",
            ),
        ]

    def __str__(self):
        return f"{self.claimed} by {self.brand} ({self.state})"

    @property
    def is_registration(self) -> bool:
        return self.kind == ClaimKind.COMPANY_REGISTRATION

    @property
    def claimed(self) -> str:
        """What is claimed, in a few words: the prefix, or the registration number and country."""
        if self.is_registration:
            return f"registration {self.registration_number} ({self.registration_country})"
        return self.prefix

    def covers(self, gtin: str) -> bool:
        """Whether this claim vouches for a GTIN: only an approved-or-pending prefix claim ever does."""
        return self.kind == ClaimKind.GS1_PREFIX and prefix_covers(self.prefix, gtin)


class KeyCheck(models.Model):
    """One row: a known value sealed under MASTER_KEY, so a wrong MASTER_KEY is caught at start-up and in
    /healthz instead of turning every verify into an error."""

    sealed = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"key check of {self.created_at:%Y-%m-%d}"


class UnsentTask(models.Model):
    """A task the broker could not take (it was down): kept here and sent by the beat sweep once it is back,
    so an alert, an e-mail or an export is late, never lost (core.queueing.send)."""

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.name}{tuple(self.args)} unsent since {self.created_at:%Y-%m-%d %H:%M}"


class ApiKeyScope(models.TextChoices):
    """What a key may do, as the dashboard's roles: each scope maps onto named permissions (brands.access)."""

    READ = "read", "Read (what a viewer may see)"
    WRITE = "write", "Write (what an operator may do)"
    ADMIN = "admin", "Admin (an admin's, without members, keys and offboarding)"
    VRS = "vrs", "Verification requests of trading partners only"
    OWNERS = "owners", "Registered owners: counts and contacts (personal data)"


class ApiKey(models.Model):
    """A brand's key for its own systems: an actor of the access layer, like a member. Only a SHA-256 of the
    secret is kept (the secret has 256 random bits, so a slow hash buys nothing); `prefix` is shown to tell
    keys apart. A key made for a distributor sees what that distributor's people see in the portal."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed = models.CharField(max_length=64, unique=True, editable=False)
    export_exclude = ("hashed",)
    scopes = models.JSONField(default=list)
    distributor = models.ForeignKey(
        "distributors.Distributor", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    partner_gln = models.CharField("trading partner's GLN", max_length=13, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    brand_path = "brand"
    url_id = "api_key_id"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"  # never the secret

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

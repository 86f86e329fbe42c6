"""The User model on the contract's `users` table: uuid id, email login, a role that decides access."""

import unicodedata
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.password_validation import validate_password
from django.db import models
from django.db.models.functions import Now


class GenRandomUUID(models.Func):
    """A database-side random uuid: gen_random_uuid() on PostgreSQL, 16 random bytes on SQLite."""

    function = "gen_random_uuid"
    template = "%(function)s()"
    output_field = models.UUIDField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps uuids on SQLite as 32 hex digits without dashes.
        return "lower(hex(randomblob(16)))", []


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"
    SUPER_ADMIN = "super_admin", "Super admin"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, name, password=None, role=Role.AGENT, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), name=name, role=role, **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email, name, password=None, **extra_fields):
        """A super admin, whose password must pass the validators (Django's createsuperuser comes here,
        so its "bypass password validation" answer and its non-interactive mode cannot skip them)."""
        if password is not None:
            validate_password(password, self.model(email=self.normalize_email(email), name=name))
        return self.create_user(email, name, password, role=Role.SUPER_ADMIN, **extra_fields)

    @classmethod
    def normalize_email(cls, email):
        """The one spelling of an email address that is stored, looked up and throttled: compatibility
        characters folded (NFKC, as Django's login form does: "ｃ" and "ⓒ" are "c") and case folded."""
        folded = unicodedata.normalize("NFKC", email or "").casefold()
        return unicodedata.normalize("NFKC", folded).strip()

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))


class User(AbstractBaseUser):
    """A person who logs in: admins and super admins run the Django admin, agents the dashboard.

    Beside the contract's columns: password, last_login (Django's auth) and is_active.
    Permissions follow from the role alone (see has_perm); there is no per-user permission table.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=GenRandomUUID(), editable=False)
    name = models.CharField(max_length=255)
    email = models.EmailField(max_length=254, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    is_active = models.BooleanField(default=True, db_default=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    # Apps whose objects an admin manages; the rest of the admin is for super admins.
    ADMIN_APPS = frozenset({"accounts", "agents", "whatsapp", "audit"})

    class Meta:
        db_table = "users"
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="users_role_valid"),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    def clean(self):
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    @property
    def is_staff(self):
        return self.is_active and self.role in (Role.ADMIN, Role.SUPER_ADMIN)

    @property
    def is_superuser(self):
        return self.is_active and self.role == Role.SUPER_ADMIN

    def has_perm(self, perm, obj=None):
        if self.is_superuser:
            return True
        return self.is_staff and perm.split(".", 1)[0] in self.ADMIN_APPS

    def has_perms(self, perm_list, obj=None):
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label):
        return self.is_superuser or (self.is_staff and app_label in self.ADMIN_APPS)

    def get_short_name(self):
        return self.name.split(" ", 1)[0] if self.name else self.email

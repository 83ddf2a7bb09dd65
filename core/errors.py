"""The one family of domain errors: services raise them, forms, commands and the API translate them."""


class ServiceError(Exception):
    """A use case that cannot be done as asked; `field` names what to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message

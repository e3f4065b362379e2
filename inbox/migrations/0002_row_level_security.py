from django.db import migrations

from tenants.rls import EnableRowLevelSecurity

MODELS = [
    "teamphonenumber",
    "team",
    "teammember",
    "agentstatus",
    "label",
    "conversationlabel",
    "note",
    "notification",
    "cannedresponse",
    "businesshours",
    "awayreply",
]


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_inbox")]

    operations = [EnableRowLevelSecurity(name) for name in MODELS]

from django.db import migrations

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("membership"),
        EnableRowLevelSecurity("invitation"),
        EnableRowLevelSecurity("businessportfolio"),
        EnableRowLevelSecurity("whatsappbusinessaccount"),
        EnableRowLevelSecurity("phonenumber"),
        EnableRowLevelSecurity("apicredential"),
    ]

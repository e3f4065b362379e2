from django.db import migrations

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("consenttopic"),
        EnableRowLevelSecurity("consentimport"),
        EnableRowLevelSecurity("importrow"),
    ]

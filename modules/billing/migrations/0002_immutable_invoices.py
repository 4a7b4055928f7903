"""Issued invoices are immutable, in the database itself.

Whatever the code does (a bulk `UPDATE`, a shell session, a bug), PostgreSQL
refuses to change an invoice's content or delete it, and to change or delete
any invoice line. Only the payment state may change: status, amount_paid,
amount_credited, updated_at (Invoice.MUTABLE_FIELDS). A mistake is corrected
by a credit note and a corrective invoice.

Maintenance (the legal retention purge, after the 10 years invoices must be
kept; test clean-up) inserts a MaintenanceWindow row carrying its own
transaction id, then deletes it before committing:
modules.billing.maintenance.maintenance(). No other transaction ever sees it.
"""
import django.db.models.expressions
from django.db import migrations, models

SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM billing_maintenancewindow WHERE txid = txid_current()) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'La facture % est émise : elle ne peut pas être supprimée.', OLD.number;
    END IF;
    IF (to_jsonb(NEW) - ARRAY['status', 'amount_paid', 'amount_credited', 'updated_at'])
       IS DISTINCT FROM
       (to_jsonb(OLD) - ARRAY['status', 'amount_paid', 'amount_credited', 'updated_at']) THEN
        RAISE EXCEPTION 'La facture % est émise : elle ne peut plus être modifiée '
            '(émettez un avoir puis une facture rectificative).', OLD.number;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_invoiceline_immutable() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM billing_maintenancewindow WHERE txid = txid_current()) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'Une ligne de facture émise ne peut être ni modifiée ni supprimée.';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_immutable
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();
CREATE TRIGGER billing_invoiceline_immutable
    BEFORE UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_immutable();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoice_immutable();
DROP FUNCTION IF EXISTS billing_invoiceline_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [
        migrations.CreateModel(
            name="MaintenanceWindow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("txid", models.BigIntegerField(db_default=django.db.models.expressions.Func(
                    function="txid_current", output_field=models.BigIntegerField()))),
            ],
            options={"verbose_name": "fenêtre de maintenance"},
        ),
        migrations.RunSQL(SQL, REVERSE_SQL),
    ]

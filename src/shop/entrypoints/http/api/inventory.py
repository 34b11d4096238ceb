"""Inventory endpoints: batches and the stock of a sku."""

from __future__ import annotations

from flask import Blueprint, Response

from seedwork.core.messages import Envelope
from shop.domain import commands, events, text
from shop.domain.visa import Action
from shop.entrypoints.http.api.door import send, visa
from shop.entrypoints.http.api.exchange import answer, command, json_body, path_id, views
from shop.views.documents import batch_document

inventory = Blueprint("inventory", __name__)


@inventory.post("/batches")
def add_batch() -> Response:
    """Add a batch of a catalog sku."""
    added = command(commands.AddBatch, json_body())
    send(added)
    return answer({"reference": added.reference}, 201)


@inventory.put("/batches/<reference>/quantity")
def change_batch_quantity(reference: str) -> Response:
    """Set a batch's quantity; lines that no longer fit go elsewhere or wait."""
    reference = path_id(reference)
    committed: list[Envelope] = []
    send(
        command(commands.ChangeBatchQuantity, json_body(), reference=reference),
        committed=committed,
    )
    # The batch as the call's last commit left it (as projected then), not read back.
    for envelope in reversed(committed):
        event = envelope.message
        if isinstance(event, events.StockRevised):
            for batch in event.batches:
                if batch.reference == reference:
                    return answer(batch_document(event.sku, batch))
    return answer(views().batch(reference))


@inventory.get("/stock/<sku>")
def get_stock(sku: str) -> Response:
    """A sku's stock, batch by batch: the warehouse's and staff's to read."""
    visa().require(Action.MANAGE_STOCK)
    return answer(views().stock(path_id(sku, text.SKU)))

"""Receipts (biên nhận) the gateway answers an accepted packet with."""

from gateway.receipt.build import (Receipt, ReceiptSigner, SignedReceipts, UnsignedReceipts, build_receipt,
                                   receipt_signer)

__all__ = ["Receipt", "ReceiptSigner", "SignedReceipts", "UnsignedReceipts", "build_receipt", "receipt_signer"]

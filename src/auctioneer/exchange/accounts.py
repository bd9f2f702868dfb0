"""Account handlers: open an account, deposit money into it, withdraw what is unreserved.

Money enters the exchange only by :class:`~auctioneer.exchange.commands.Deposit`
and leaves only by :class:`~auctioneer.exchange.commands.Withdraw`; the
exchange counts what was minted so the invariant check can prove
conservation. Every amount is checked against
:data:`~auctioneer.money.MONEY_MAX` before it is added, so no balance can
pass a signed 64-bit integer.

Example:
    >>> from auctioneer.exchange import Exchange, OpenAccount, Deposit, Role
    >>> ex = Exchange()
    >>> _ = ex.apply(OpenAccount("a", Role.TRADER))
    >>> ex.apply(Deposit("a", 2**63))[0].field
    'amount'
"""

from __future__ import annotations

from auctioneer.exchange import commands as c
from auctioneer.exchange.events import Event
from auctioneer.exchange.ledger import Account
from auctioneer.exchange.model import Role
from auctioneer.exchange.state import State, Why, positive, refused, text
from auctioneer.money import MONEY_MAX

__all__ = ["AccountDesk"]


class AccountDesk(State):
    """The handlers of OpenAccount, Deposit and Withdraw."""

    def _open_account(self, cmd: c.OpenAccount) -> list[Event]:
        account, role = self._check_open(cmd)
        events = self._accept(cmd.kind, account, cmd.ts_ns)
        self._accounts[account] = Account(account, role)
        return events

    def _check_open(self, cmd: c.OpenAccount) -> tuple[str, Role]:
        """The new account's id and role; :class:`Refusal` for every check but the
        timestamp's (``_accept`` makes that one last)."""
        account = text(cmd.account, "account")
        if account in self._accounts:
            raise refused("account", Why.EXISTS, account)
        if not isinstance(cmd.role, Role):
            raise refused("role", Why.NOT_ROLE, cmd.role)
        return account, cmd.role

    def _deposit(self, cmd: c.Deposit) -> list[Event]:
        acct = self._account_of(cmd.account)
        # Every balance, reservation and trade amount is part of the money deposited, so
        # capping the total (not each balance) bounds every amount a trade can produce:
        # a sale can never credit a balance past 2**63 - 1.
        amount = positive(cmd.amount, "amount", MONEY_MAX)
        if amount > MONEY_MAX - self._minted:
            raise refused("amount", Why.MINTED, amount, MONEY_MAX, MONEY_MAX - self._minted)
        events = self._accept(cmd.kind, acct.id, cmd.ts_ns)
        acct.balance += amount
        self._minted += amount
        return events

    def _withdraw(self, cmd: c.Withdraw) -> list[Event]:
        acct = self._account_of(cmd.account)
        amount = positive(cmd.amount, "amount", MONEY_MAX)
        available = acct.balance - acct.reserved
        if amount > available:
            raise refused("amount", Why.AVAILABLE, amount, available)
        events = self._accept(cmd.kind, acct.id, cmd.ts_ns)
        acct.balance -= amount
        self._minted -= amount
        return events

import Synchronization

/// A reservation held by one request, settled exactly once: with the tokens it used when it ends, or, if it is
/// dropped unsettled (a path that forgot it), with everything it reserved, which never lets a request use more
/// than it was admitted for.
final class QuotaHold: Sendable {
    private let ledger: QuotaLedger
    private let reservation: QuotaLedger.Reservation
    private let settled = Atomic<Bool>(false)

    init(ledger: QuotaLedger, reservation: QuotaLedger.Reservation) {
        self.ledger = ledger
        self.reservation = reservation
    }

    func settle(usedTokens: Int) {
        guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        ledger.settle(reservation, usedTokens: min(usedTokens, reservation.tokens))
    }

    deinit { settle(usedTokens: reservation.tokens) }
}

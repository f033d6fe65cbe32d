"""The Review dock: every track's flagged frames, one row per run of consecutive ones (frames,
track, why), to walk through with one key per decision — K accepts the frame shown, A marks it
absent, a drawn box fixes it, J goes to the next run.

It shows ``app.model.review.review_queue`` of the session and asks for frames through
``item_requested``; the decisions are the window's ordinary editing actions. After an accept,
absent or delete that settles the item on screen it asks for the next item (when "advance" is
on and the dock is shown). After a fix it stays: the next step is often re-tracking from the
corrected box (T).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.annotations import Edit
from app.model.review import ReviewItem, frames_in, review_queue, settled_by, step_item
from app.model.session import Session
from app.ui.track_panel import colour_icon

#: while a run writes boxes, the list is rebuilt at most this often
RUN_REFRESH_MS = 500


class ReviewPanel(QWidget):
    item_requested = Signal(int, int)  # track, frame
    message = Signal(str)  # for the status bar

    def __init__(self, session: Session, running: Callable[[], bool], parent=None):
        super().__init__(parent)
        self.session = session
        self._running = running
        self.items: list[ReviewItem] = []  # what the list shows
        self._names: dict[int, tuple[str, str]] = {}  # track id -> (label, colour) shown
        self._rows: dict[tuple[int, int], QTreeWidgetItem] = {}
        self._accept_range: QAction | None = None

        self.count_label = QLabel()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Frames", "Track", "Why it is flagged"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setFocusPolicy(Qt.NoFocus)  # keys belong to the window's shortcuts
        self.tree.setToolTip(
            "Flagged frames of all tracks in frame order, a run of consecutive ones in one row: "
            "click one to go to where it starts"
        )
        header = self.tree.header()
        header.setStretchLastSection(True)
        for column in (0, 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.advance_check = QCheckBox("Advance after each decision")
        self.advance_check.setChecked(True)
        self.advance_check.setFocusPolicy(Qt.NoFocus)
        self.advance_check.setToolTip(
            "After K (accept), A (absent) or a delete on the frame shown, go to the next flagged frame"
            " (the next frame of the same run, if it has more)"
        )
        hint = QLabel("K accept · A absent · draw a box to fix · J / Shift+J next / previous")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        self.buttons = QGridLayout()  # two rows: the dock stays narrow enough for small screens
        self.buttons.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.count_label)
        layout.addWidget(self.tree, 1)
        layout.addWidget(hint)
        layout.addWidget(self.advance_check)
        layout.addLayout(self.buttons)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.refresh)
        self.tree.itemClicked.connect(self._on_clicked)
        session.document_changed.connect(self.refresh)
        session.annotations_changed.connect(self._on_edit)
        session.frame_changed.connect(lambda _frame: self._show_current())
        session.selection_changed.connect(lambda _track: self._show_current())
        session.range_changed.connect(lambda _range: self._update_counts())
        self.refresh()

    def set_actions(self, previous: QAction, following: QAction, accept_range: QAction) -> None:
        """Buttons for the window's actions (their keys and tooltips stay in one place)."""
        for (row, column), action in zip(
            ((0, 0), (0, 1), (1, 0)), (previous, following, accept_range), strict=True
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setFocusPolicy(Qt.NoFocus)
            button.setToolButtonStyle(Qt.ToolButtonTextOnly)
            self.buttons.addWidget(button, row, column, 1, 2 if row else 1, Qt.AlignLeft)
        self.buttons.setColumnStretch(2, 1)
        self._accept_range = accept_range
        self._update_counts()

    # -- showing the queue -----------------------------------------------------------------------

    def refresh(self) -> None:
        self.timer.stop()
        items = review_queue(self.session.annotations)
        names = {t.id: (t.label, t.color) for t in self.session.annotations}
        if items != self.items or names != self._names:
            self.items, self._names = items, names
            self._fill()
        self._update_counts()
        self._show_current()

    def _fill(self) -> None:
        self.tree.clear()
        self._rows = {}
        rows = []
        icons = {track: colour_icon(colour) for track, (_label, colour) in self._names.items()}
        for item in self.items:
            row = QTreeWidgetItem([item.span, f"#{item.track} {self._names[item.track][0]}", item.reason])
            row.setData(0, Qt.UserRole, item.key)
            if item.frames > 1:
                row.setToolTip(0, f"{item.frames} flagged frames in a row")
            row.setToolTip(2, item.reason if item.frames == 1 else f"frame {item.frame}: {item.reason}")
            row.setIcon(1, icons[item.track])
            self._rows[item.key] = row
            rows.append(row)
        self.tree.addTopLevelItems(rows)

    def _update_counts(self) -> None:
        count, frames = len(self.items), sum(item.frames for item in self.items)
        text = f"<b>{count} to review</b>" if count else "<b>Nothing to review</b>"
        if frames > count:
            text += f" · {frames} flagged frames"
        in_range = frames_in(self.items, self.session.selected_range)
        if self.session.selected_range is not None:
            first, last = self.session.selected_range
            text += f" · {len(in_range)} in the range {first}–{last}"
        self.count_label.setText(text)
        if self._accept_range is not None:
            self._accept_range.setEnabled(bool(in_range))

    def _show_current(self) -> None:
        """Select the row holding the frame and track shown; else show the rows from this frame on."""
        frame, track = self.session.current_frame, self.session.selected_track
        shown = next((item for item in self.items if item.holds(frame, track)), None)
        row = self._rows.get(shown.key) if shown else None
        self.tree.blockSignals(True)
        try:
            self.tree.setCurrentItem(row)
            if row is None:
                self.tree.clearSelection()
                later = bisect_left(self.items, (frame,), key=lambda item: (item.frame,))
                if later < len(self.items):
                    self.tree.scrollToItem(self._rows[self.items[later].key], QTreeWidget.PositionAtTop)
                else:
                    self.tree.scrollToBottom()
            else:
                self.tree.scrollToItem(row)
        finally:
            self.tree.blockSignals(False)

    # -- decisions and moving on -------------------------------------------------------------------

    def _on_edit(self, edit: Edit) -> None:
        if self._running():
            if not self.timer.isActive():
                self.timer.start(RUN_REFRESH_MS)
            return
        self.refresh()
        if not self.isVisible():
            return  # reviewing is what the person does with the dock open
        decision = settled_by(edit, self.session.selected_track, self.session.current_frame)
        if decision == "fixed":
            self.message.emit(
                f"Frame {self.session.current_frame} fixed: T re-tracks from this box, J goes to the next flag."
            )
        elif decision and self.advance_check.isChecked():
            self.step(1)

    def step(self, direction: int) -> None:
        """Go to the next (1) or previous (-1) item after the frame and track shown."""
        items = review_queue(self.session.annotations)
        item = step_item(items, self.session.current_frame, self.session.selected_track, direction)
        if item is None:
            self.message.emit("Nothing flagged to review.")
            return
        self.item_requested.emit(item.track, item.frame)
        self.message.emit(f"Review {items.index(item) + 1} of {len(items)}: {item.where()}, {item.reason}")

    def _on_clicked(self, row: QTreeWidgetItem, _column: int) -> None:
        frame, track = row.data(0, Qt.UserRole)
        self.item_requested.emit(track, frame)

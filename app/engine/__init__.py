"""Qt-free tracking runs on a document: the frame loop, the rules a run follows while results
arrive (drift flags, convergence, fusion with a run back from a keyframe), and whole-video
annotation from keyframes. The GUI's run controller and ``siamark batch`` both use it."""

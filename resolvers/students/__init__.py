"""Student aid (issue 4): the students owed aid in a term, found without anyone applying."""

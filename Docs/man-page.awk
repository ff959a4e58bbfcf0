# Turns the manual swift-argument-parser's generate-manual plugin writes into one that
# `mandoc -T lint -W warning` accepts, with Coffer's own sections (ENVIRONMENT, FILES,
# EXIT STATUS, EXAMPLES; the file given as `sections`) in place of the plugin's EXIT STATUS.
# Runs under any POSIX awk (Debian's default is mawk).
function flush() {
    if (pending != "") { print pending; pending = "" }
}
function insert_sections(   line) {
    flush()
    while ((getline line < sections) > 0) print line
    inserted = 1
}
/^\.Sh "EXIT STATUS"$/ { insert_sections(); skip_ex = 1; next }
skip_ex && /^\.Ex / { skip_ex = 0; next }
# A paragraph break right before a list item is redundant; a blank line is one written badly.
/^$/ || /^\.Pp$/ { flush(); pending = ".Pp"; next }
/^\.It/ { pending = "" }
{
    flush()
    line = $0
    # mandoc wants each sentence on its own line.
    if (substr(line, 1, 1) != ".") {
        gsub(/\. +/, ".\n", line)
        gsub(/\? +/, "?\n", line)
        gsub(/! +/, "!\n", line)
        count = split(line, parts, "\n")
        line = ""
        for (i = 1; i <= count; i++) {
            # A line starting with a dot or quote would be read as a macro.
            part = parts[i]
            if (i > 1 && (substr(part, 1, 1) == "." || substr(part, 1, 1) == "'")) part = "\\&" part
            line = line (i > 1 ? "\n" : "") part
        }
    }
    print line
}
END {
    flush()
    if (!inserted) insert_sections()
}

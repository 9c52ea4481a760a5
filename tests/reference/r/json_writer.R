# Minimal JSON writer for reference values (no jsonlite on Debian by default); sourced by the
# reference scripts of this folder. Numbers are written with %.17g so they round-trip exactly.
jstr <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  paste0("\"", s, "\"")
}

# Lists with names -> objects, lists without -> arrays; atomic vectors of length != 1 or wrapped
# in I() -> arrays, else scalars. NA / NaN / +-Inf -> null.
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x) && !inherits(x, "AsIs")) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      items <- vapply(seq_along(x), function(i) paste0(jstr(names(x)[i]), ": ", to_json(x[[i]])), "")
      return(paste0("{", paste(items, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ", "), "]"))
  }
  box <- inherits(x, "AsIs") || length(x) != 1
  x <- unclass(x)
  if (is.factor(x)) x <- as.character(x)
  vals <- if (is.character(x)) {
    ifelse(is.na(x), "null", jstr(x))
  } else if (is.logical(x)) {
    ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    x <- as.numeric(x)
    ifelse(is.finite(x), sprintf("%.17g", x), "null")
  }
  if (box) paste0("[", paste(vals, collapse = ", "), "]") else vals
}

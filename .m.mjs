import ts from "typescript";
import { readFileSync } from "node:fs";
import { execSync } from "node:child_process";
const dir = process.argv[2];
const files = execSync(`cd ${dir} && git ls-files 'functions/*.ts'`, { encoding: "utf8" }).trim().split("\n");
let five = [], as = 0, bang = 0, idBang = 0;
for (const f of files) {
  const src = ts.createSourceFile(f, readFileSync(`${dir}/${f}`, "utf8"), ts.ScriptTarget.Latest, true);
  const visit = (n) => {
    if (ts.isFunctionLike(n) && n.parameters && n.parameters.length >= 5) five.push(`${f}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}`);
    if (ts.isAsExpression(n) && !(n.type.kind === ts.SyntaxKind.TypeReference && n.type.getText() === "const")) as++;
    if (ts.isNonNullExpression(n)) { bang++; if (/_id$/.test(n.expression.getText())) idBang++; }
    ts.forEachChild(n, visit);
  };
  visit(src);
}
console.log(JSON.stringify({ files: files.length, fiveParams: five.length, as, bang, idBang, five }, null, 1));
